#!/bin/sh
# Phase two of a Flex deployment (azd postdeploy hook, or by hand after the ingest code is deployed):
# waits for the ingest host's blobs_extension system key, then deploys the Event Grid subscription with
# infra/modules/uploadsSubscription.bicep. The key is read by ARM inside that deployment, never printed here.
# Needs: az (logged in) and the main.bicep outputs azd exports: AZURE_RESOURCE_GROUP, INGEST_APP_NAME,
# EVENT_GRID_TOPIC, UPLOADS_CONTAINER, INGEST_EVENTGRID_FUNCTION.
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
if [ "${MOE_INGEST_HOSTING:-flex}" != "flex" ]; then
  echo "ingest runs as a container with the polling blob trigger: no Event Grid subscription needed"
  exit 0
fi
: "${AZURE_RESOURCE_GROUP:?}" "${INGEST_APP_NAME:?}" "${EVENT_GRID_TOPIC:?}" "${UPLOADS_CONTAINER:?}" "${INGEST_EVENTGRID_FUNCTION:?}"

# The host creates the key when it first starts with the Event Grid blob trigger loaded.
tries=0
until [ -n "$(az functionapp keys list -g "$AZURE_RESOURCE_GROUP" -n "$INGEST_APP_NAME" \
                --query 'systemKeys.blobs_extension' -o tsv 2>/dev/null)" ]; do
  tries=$((tries + 1))
  if [ "$tries" -gt 30 ]; then
    echo "no blobs_extension key on $INGEST_APP_NAME after 5 minutes; is the ingest code deployed? Rerun this script later." >&2
    exit 1
  fi
  # Any call to the host wakes it; a 404 is fine.
  curl -s -o /dev/null "https://$(az functionapp show -g "$AZURE_RESOURCE_GROUP" -n "$INGEST_APP_NAME" --query defaultHostName -o tsv)/" || true
  sleep 10
done

az deployment group create -g "$AZURE_RESOURCE_GROUP" --name uploads-subscription \
  --template-file "$here/../modules/uploadsSubscription.bicep" \
  --parameters topicName="$EVENT_GRID_TOPIC" uploadsContainer="$UPLOADS_CONTAINER" \
               ingestAppName="$INGEST_APP_NAME" ingestFunctionName="$INGEST_EVENTGRID_FUNCTION" \
  --output none
echo "uploads container now triggers $INGEST_APP_NAME through Event Grid"
