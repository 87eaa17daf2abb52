# fleet monitor: slim image, non-root, config mounted at /etc/monitor/monitor.yaml
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY monitor ./monitor
RUN pip install '.[fast]' \
    && useradd --system --uid 10001 --home-dir /var/lib/monitor --create-home monitor

USER monitor
EXPOSE 8700
VOLUME ["/var/lib/monitor"]
# Inside a container the daemon must listen on all interfaces; outside, the default is loopback.
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
  CMD python -c "import sys,urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8700/healthz', timeout=2).status == 200 else 1)"
ENTRYPOINT ["monitor"]
CMD ["run", "--config", "/etc/monitor/monitor.yaml", "--listen", "0.0.0.0:8700"]
