# Tasklane API image: slim, non-root, runtime dependencies only (no test or dev tools).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
COPY backend ./backend
RUN pip install --constraint constraints.txt . \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin tasklane
COPY api-specification.yaml ./
COPY scripts/setup_indexes.py ./scripts/setup_indexes.py

# Production defaults; everything else comes from the environment (.env with docker compose).
ENV ENVIRONMENT=production \
    MONGODB_BUILD_INDEXES=false \
    OPENAPI_SPEC_PATH=/app/api-specification.yaml

USER tasklane
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health/live', timeout=2).status != 200)"]
CMD ["tasklane", "serve", "--host", "0.0.0.0", "--port", "8000"]
