# want: 3:16 | Missing Dockerfile | Prod.Dockerfile
image "app" {
  dockerfile = "Prod.Dockerfile"
}
