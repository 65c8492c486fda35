# The app as `make serve` runs it (compose.yaml); Redis is not in this image.
FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends make && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# Requirements first: a change to the code alone does not reinstall them.
COPY requirements.txt Makefile ./
RUN make .venv/.runtime
COPY . .
EXPOSE 5000 5001
CMD ["make", "serve"]
