image "app" {
  tags = ["broken/app:dev"]
  args = {
    DJANGO_SECRET_KEY = "insecure-dev-key"
  }
}
service "web" {
  image   = image.app
  volumes = [".:/app"]
}
