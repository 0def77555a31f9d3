from dashboard.main import service

service.cli()
