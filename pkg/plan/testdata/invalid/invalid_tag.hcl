# want: 3:21 | Invalid image tag | "App:Bad"
image "app" {
  tags = ["app:ok", "App:Bad"]
}
