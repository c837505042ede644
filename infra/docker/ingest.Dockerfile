# syntax=docker/dockerfile:1
# Ingest Function App as a CPU container (ingestHosting=containerapp): the same worker plus ffmpeg, which
# decodes video containers and any format the managed decoders do not cover. Flex Consumption cannot run it.
# Build from the repository root:  docker build -f infra/docker/ingest.Dockerfile -t moe-ingest .
ARG FUNCTIONS_IMAGE=mcr.microsoft.com/azure-functions/dotnet-isolated:4-dotnet-isolated10.0

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish src/MoeFunctions.App -c Release -o /app/publish

FROM ${FUNCTIONS_IMAGE}
RUN set -eux; \
    apt-get update; \
    apt-get install -y --no-install-recommends ffmpeg; \
    rm -rf /var/lib/apt/lists/*

ENV AzureWebJobsScriptRoot=/home/site/wwwroot \
    AzureFunctionsJobHost__Logging__Console__IsEnabled=true \
    ASPNETCORE_URLS=http://+:8080

WORKDIR /home/site/wwwroot
COPY --from=build /app/publish .
# The bundle travels with the publish output too; copied explicitly so the image never lacks it.
COPY models/default ./models/default

RUN useradd --uid 10001 --no-create-home --home-dir /home --shell /usr/sbin/nologin moe \
    && chown -R 10001:10001 /home
USER 10001
EXPOSE 8080
