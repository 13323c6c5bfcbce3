// Stand-in for stb_image.h, which Debian's tiny-dnn package includes but does not ship.
// Declarations only: gossip-learner never loads images, so nothing here is defined or called.
#pragma once

typedef unsigned char stbi_uc;
extern "C" {
stbi_uc* stbi_load(const char* filename, int* x, int* y, int* comp, int req_comp);
const char* stbi_failure_reason(void);
void stbi_image_free(void* retval_from_stbi_load);
}
