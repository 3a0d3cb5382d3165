FROM python:3.11-slim
WORKDIR /app
COPY . /app
RUN pip install --no-cache-dir .
ENV CONTEST_WEB_HOST=0.0.0.0 CONTEST_WEB_PORT=8000
# Slow and idle clients (cli/webserver.py): idle keep-alive [s], connections at once (more get 503),
# time to send a request head [s], largest request head [bytes]. CONTEST_SECRET_KEY must be set at run time.
ENV CONTEST_WEB_KEEP_ALIVE_S=5 CONTEST_WEB_LIMIT_CONCURRENCY=1000 CONTEST_WEB_HEADER_TIMEOUT_S=10 \
    CONTEST_WEB_MAX_HEADER_BYTES=16384
EXPOSE 8000
CMD ["contest", "serve"]
