# want: 3:13 | Missing build context | is not a directory
image "app" {
  context = "Dockerfile"
}
