"""The student web app: server-rendered pages that call only the public APIs, through the gateway."""
