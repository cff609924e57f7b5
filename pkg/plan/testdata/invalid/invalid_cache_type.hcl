# want: 3:17 | Invalid cache entry | not one of
image "app" {
  cache_from = ["type=floppy,dest=/a"]
}
