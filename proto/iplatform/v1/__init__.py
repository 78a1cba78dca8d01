"""iplatform.v1: generated from proto/iplatform/v1/*.proto by scripts/gen_proto.sh. Do not edit."""
