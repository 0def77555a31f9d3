from coaching.main import service

service.cli()
