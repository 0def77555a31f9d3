from billing.main import service

service.cli()
