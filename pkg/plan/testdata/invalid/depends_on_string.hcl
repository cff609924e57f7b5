# want: 3:17 | Invalid image reference | 
image "a" {
  depends_on = ["b"]
}
