# want: 3:10 | No tags | Leave tags out for app:latest
image "app" {
  tags = []
}
