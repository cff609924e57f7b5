# want: 3:16 | Invalid named context | holds 2 manifests
image "app" {
  contexts = { base = "oci-layout://layout" }
}
