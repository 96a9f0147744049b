#!/bin/sh
# Runs one CallPulse service: its migrations first (a prestart step), then uvicorn.
# SERVICE=roster|metrics|care|gateway selects it; <SERVICE>_PORT (default per service) its port.
set -eu

: "${SERVICE:?set SERVICE to roster, metrics, care or gateway}"

case "$SERVICE" in
  gateway) default_port=8000 ;;
  roster)  default_port=8001 ;;
  metrics) default_port=8002 ;;
  care)    default_port=8003 ;;
  *) echo "unknown SERVICE: $SERVICE" >&2; exit 64 ;;
esac

prefix=$(echo "$SERVICE" | tr '[:lower:]' '[:upper:]')
port=$(eval "echo \${${prefix}_PORT:-$default_port}")
cd /app
if [ -f "services/$SERVICE/alembic.ini" ]; then
  alembic -c "services/$SERVICE/alembic.ini" upgrade head
fi
if [ "$SERVICE" = "roster" ]; then
  python -m services.roster.bootstrap
fi

exec uvicorn "services.$SERVICE.app:create_app" --factory \
  --host 0.0.0.0 --port "$port" --proxy-headers --no-access-log \
  --timeout-graceful-shutdown 8
