from missions.main import service

service.cli()
