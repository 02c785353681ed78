#!/bin/sh
# The orchestrator program on PATH in its image (workloads/orchestrator/Dockerfile).
exec node /app/dist/workloads/orchestrator/main.js "$@"
