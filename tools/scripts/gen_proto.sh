#!/usr/bin/env bash
# Regenerates gateway_proto from proto/gateway/v1/*.proto into OUT (default: the committed package).
# protoc writes modules under gateway/v1 that import "from gateway.v1 import ..."; we move them to
# gateway_proto/v1 and rewrite those imports, so the package installs under its own name.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$root/proto/python/src/gateway_proto}
py=${PYTHON:-$root/.venv/bin/python}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$root/proto"
"$py" -m grpc_tools.protoc -I . \
  --plugin=protoc-gen-mypy="$root/.venv/bin/protoc-gen-mypy" \
  --plugin=protoc-gen-mypy_grpc="$root/.venv/bin/protoc-gen-mypy_grpc" \
  --python_out="$tmp" --grpc_python_out="$tmp" --mypy_out="$tmp" --mypy_grpc_out="$tmp" \
  gateway/v1/*.proto
find "$tmp/gateway/v1" -type f \( -name '*.py' -o -name '*.pyi' \) -exec \
  sed -i -E 's/^from gateway\.v1 import/from gateway_proto.v1 import/; s/^import gateway\.v1\./import gateway_proto.v1./; s/([^_a-zA-Z])gateway\.v1\.([a-z_]+_pb2)/\1gateway_proto.v1.\2/g' {} +
# Message-only files get empty *_pb2_grpc modules; keep only those that define a service.
for f in "$tmp/gateway/v1/"*_pb2_grpc.py; do
  grep -q "Stub" "$f" || rm -f "$f" "${f}i"
done
mkdir -p "$out/v1"
rm -f "$out/v1/"*_pb2*.py "$out/v1/"*_pb2*.pyi
cp "$tmp/gateway/v1/"* "$out/v1/"
printf '"""Generated protobuf and gRPC modules for gateway.v1 (make proto)."""\n' > "$out/v1/__init__.py"
