# want: 4:11 | Reference to undeclared image | Did you mean "app"?
image "app" {}
service "web" {
  image = image.ap
}
