"""Generated protobuf code for the iplatform contract (see proto/iplatform/)."""
