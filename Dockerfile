# syntax=docker/dockerfile:1
# Tasklane API image: non-root, the dependencies in a layer of their own (rebuilt only when
# pyproject.toml or the constraints file change), the code once (as an installed wheel, not also as a
# source tree), and no test, dev or in-memory packages (production refuses in-memory storage).

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
# The driver stack: constraints-pymongo.txt (Beanie 2 on PyMongo's async API, no thread per query:
# the faster one, measured in benchmarks/README.md) or constraints.txt (Beanie 1.30 on Motor, the
# stack of the in-memory test mock); docs/operations.md, "Driver stack".
ARG CONSTRAINTS=constraints-pymongo.txt
COPY pyproject.toml ${CONSTRAINTS} ./
# The runtime dependencies only (no extras), pinned by the constraints file.
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > requirements.txt \
    && pip wheel --quiet --wheel-dir /wheels/deps --constraint "${CONSTRAINTS}" --requirement requirements.txt
COPY README.md ./
COPY backend ./backend
RUN pip wheel --quiet --no-deps --wheel-dir /wheels/app .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# Wheels are mounted, not copied: no layer keeps them.
RUN --mount=type=bind,from=build,source=/wheels/deps,target=/wheels/deps \
    pip install --quiet --no-index /wheels/deps/*.whl \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin tasklane
RUN --mount=type=bind,from=build,source=/wheels/app,target=/wheels/app \
    pip install --quiet --no-index --no-deps /wheels/app/*.whl
WORKDIR /app
COPY api-specification.yaml ./

# Production defaults; everything else comes from the environment (.env and secrets with compose).
# WEB_CONCURRENCY sets the worker processes of `tasklane serve`.
ENV ENVIRONMENT=production \
    MONGODB_BUILD_INDEXES=false \
    OPENAPI_SPEC_PATH=/app/api-specification.yaml \
    WEB_CONCURRENCY=1

USER tasklane
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health/live', timeout=2).status != 200)"]
CMD ["tasklane", "serve", "--host", "0.0.0.0", "--port", "8000"]
