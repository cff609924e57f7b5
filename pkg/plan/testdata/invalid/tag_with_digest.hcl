# want: 3:11 | Invalid image tag | cannot hold a digest
image "app" {
  tags = ["app@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"]
}
