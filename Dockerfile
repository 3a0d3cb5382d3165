FROM python:3.11-slim
WORKDIR /app
COPY . /app
RUN pip install --no-cache-dir .
ENV CONTEST_WEB_HOST=0.0.0.0 CONTEST_WEB_PORT=8000
EXPOSE 8000
CMD ["contest", "serve"]
