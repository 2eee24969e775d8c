"""gateway_control: the control plane (admin API, config publisher, key records). See README.md."""
