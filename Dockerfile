# xent: the cross-entropy explainer as one container.
#   docker build -t xent . && docker run -p 8501:8501 xent      then open http://localhost:8501
# Follows Streamlit's Docker deployment guide; Python 3.11 is what CI tests.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# torch first, from PyTorch's CPU-only index: the default index would pull the CUDA build (several GB).
# requirements.txt pins torch==2.13.0 too; pip then finds 2.13.0+cpu already installed.
COPY requirements.txt .
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0 \
 && pip install -r requirements.txt

COPY app.py ./
COPY pages/ pages/
COPY ui/ ui/
COPY xent_core/ xent_core/
COPY assets/ assets/
COPY .streamlit/ .streamlit/

# Production settings on top of .streamlit/config.toml (environment variables win over the file).
ENV STREAMLIT_SERVER_HEADLESS=true \
    STREAMLIT_SERVER_FILE_WATCHER_TYPE=none \
    STREAMLIT_CLIENT_SHOW_ERROR_DETAILS=none \
    STREAMLIT_BROWSER_GATHER_USAGE_STATS=false

RUN useradd --create-home --uid 10001 xent
USER 10001

EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4)"]

ENTRYPOINT ["streamlit", "run", "app.py", "--server.address=0.0.0.0", "--server.port=8501"]
