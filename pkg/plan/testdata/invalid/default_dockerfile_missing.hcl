# want: 2:1 | Missing Dockerfile | 
image "app" {
  context = "empty"
}
