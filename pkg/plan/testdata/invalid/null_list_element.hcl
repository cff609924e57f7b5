# want: 5:13 | Null value not allowed | 
image "app" {}
service "web" {
  image = image.app
  command = ["a", null]
}
