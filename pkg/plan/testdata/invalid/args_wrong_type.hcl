# want: 3:10 | Incorrect attribute value type | 
image "app" {
  args = ["A=1"]
}
