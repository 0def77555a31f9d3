from profiler.main import service

service.cli()
