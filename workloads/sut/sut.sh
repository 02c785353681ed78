#!/bin/sh
# The sample SUT on PATH in its image (workloads/sut/Dockerfile): every interface, port $PORT,
# the container's args as its flags.
exec node /app/dist/workloads/sut/main.js --host 0.0.0.0 --port "${PORT:-8080}" "$@"
