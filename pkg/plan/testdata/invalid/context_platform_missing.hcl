# want: 7:15 | Named context not built for this platform | built only for linux/amd64, linux/arm64
image "base" {
  platforms = ["linux/amd64", "linux/arm64"]
}
image "app" {
  platforms = ["linux/amd64", "linux/386"]
  contexts  = { base = image.base }
}
