# want: 5:11 | Reference to undeclared image | No image named "postgres"
image "app" {}
image "redis" {}
service "web" {
  image = image.postgres
}
