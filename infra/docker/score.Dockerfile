# syntax=docker/dockerfile:1
# Scoring Function App for the GPU profile of Azure Container Apps.
# Build from the repository root:  docker build -f infra/docker/score.Dockerfile -t moe-score .
# ONNX Runtime 1.31's CUDA provider needs the CUDA 13 runtime, cuBLAS, cuFFT, cuRAND and cuDNN 9; the GPU
# driver itself (libcuda) comes from the host. Without a GPU the app falls back to the CPU provider.
ARG FUNCTIONS_IMAGE=mcr.microsoft.com/azure-functions/dotnet-isolated:4-dotnet-isolated10.0

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish src/MoeFunctions.App -c Release -o /app/publish

FROM ${FUNCTIONS_IMAGE}
ARG CUDA_PACKAGE_VERSION=13-0
# NVIDIA's apt repository for the base image's own Debian release (debian12, debian13, ...).
RUN set -eux; \
    . /etc/os-release; \
    apt-get update; \
    apt-get install -y --no-install-recommends ca-certificates curl; \
    curl -fsSL -o /tmp/cuda-keyring.deb \
      "https://developer.download.nvidia.com/compute/cuda/repos/${ID}${VERSION_ID}/x86_64/cuda-keyring_1.1-1_all.deb"; \
    dpkg -i /tmp/cuda-keyring.deb; \
    rm /tmp/cuda-keyring.deb; \
    apt-get update; \
    apt-get install -y --no-install-recommends \
      "cuda-cudart-${CUDA_PACKAGE_VERSION}" \
      "libcublas-${CUDA_PACKAGE_VERSION}" \
      "libcufft-${CUDA_PACKAGE_VERSION}" \
      "libcurand-${CUDA_PACKAGE_VERSION}" \
      libcudnn9-cuda-13; \
    apt-get purge -y curl; \
    apt-get autoremove -y; \
    rm -rf /var/lib/apt/lists/*

ENV LD_LIBRARY_PATH=/usr/local/cuda/lib64:/usr/local/cuda/targets/x86_64-linux/lib \
    NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility \
    AzureWebJobsScriptRoot=/home/site/wwwroot \
    AzureFunctionsJobHost__Logging__Console__IsEnabled=true \
    ASPNETCORE_URLS=http://+:8080

WORKDIR /home/site/wwwroot
COPY --from=build /app/publish .
# The model bundle the scorer loads (Moe__ModelPath=models/default, relative to the app folder).
COPY models/default ./models/default

# Non-root: a fixed numeric uid so Container Apps can verify it; the host listens on 8080, not 80.
RUN useradd --uid 10001 --no-create-home --home-dir /home --shell /usr/sbin/nologin moe \
    && chown -R 10001:10001 /home
USER 10001
EXPOSE 8080
