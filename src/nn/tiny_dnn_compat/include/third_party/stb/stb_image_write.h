// Stand-in for stb_image_write.h (see stb_image.h beside it): declarations only, never called.
#pragma once

extern "C" {
int stbi_write_png(const char* filename, int w, int h, int comp, const void* data, int stride_in_bytes);
int stbi_write_bmp(const char* filename, int w, int h, int comp, const void* data);
}
