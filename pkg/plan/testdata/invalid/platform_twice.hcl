# want: 3:46 | Duplicate platform | listed already as "linux/arm64"
image "app" {
  platforms = ["linux/arm64", "linux/amd64", "linux/arm64/v8"]
}
