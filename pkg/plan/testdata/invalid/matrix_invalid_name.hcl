# want: 4:12 | Invalid image name | names an image "app 3.12"
image "app" {
  matrix = { python = ["3.12"] }
  name   = "app ${python}"
}
