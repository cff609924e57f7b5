# want: 3:3 | Unsupported argument | Did you mean "context"?
image "app" {
  contxt = "."
}
