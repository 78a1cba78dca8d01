#!/usr/bin/env bash
# Regenerates the committed Python code from proto/. CI runs this and fails
# if the tree changes (see .ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python}"
rm -f proto/iplatform/v1/*_pb2.py proto/iplatform/v1/*_pb2.pyi proto/iplatform/v1/*_pb2_grpc.py
"$PY" -m grpc_tools.protoc -I proto \
  --python_out=proto --pyi_out=proto --grpc_python_out=proto \
  proto/iplatform/v1/*.proto
echo "generated: $(ls proto/iplatform/v1/*_pb2*.py* | wc -l) files"
