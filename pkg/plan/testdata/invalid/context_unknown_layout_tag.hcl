# want: 3:16 | Invalid named context | no manifest tagged "three"
image "app" {
  contexts = { base = "oci-layout://layout:three" }
}
