# want: 4:11 | Invalid image reference | image = image.NAME
image "app" {}
service "web" {
  image = "app"
}
