# One image for every Lantern process (compose.yaml picks the command). Build: docker compose build
FROM python:3.10-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    # the source tree (locales/, domain/, directory/ beside bot/) is what runs, not a copy in site-packages
    PYTHONPATH=/app TF_CPP_MIN_LOG_LEVEL=3 RASA_TELEMETRY_ENABLED=false SQLALCHEMY_SILENCE_UBER_WARNING=1
WORKDIR /app

# Every transitive package pinned with hashes (made on Linux x86_64, like this image).
COPY requirements.lock ./
RUN pip install --require-hashes --no-deps -r requirements.lock

COPY . .
RUN pip install --no-deps . \
    && find locales bot/staff/translations -name '*.po' -exec sh -c 'pybabel compile -i "$1" -o "${1%.po}.mo" >/dev/null' _ {} \; \
    && useradd --system --home-dir /app lantern
USER lantern
# The trained model is mounted at /app/models (compose.yaml); train it with `make train`.
CMD ["python", "-m", "bot.tools.cli", "--help"]
