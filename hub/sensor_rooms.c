#include "sensor_rooms.h"

#include <stdlib.h>
#include <string.h>

int sensor_rooms_add(struct sensor_rooms *rooms, const char *name, const char *room)
{
    /* Grow at powers of two: the array is full exactly when count is one. */
    if ((rooms->count & (rooms->count - 1)) == 0) {
        size_t cap = rooms->count ? rooms->count * 2 : 1;
        struct sensor_room *items = realloc(rooms->items, cap * sizeof *items);
        if (items == NULL)
            return -1;
        rooms->items = items;
    }
    char *name_copy = strdup(name);
    char *room_copy = strdup(room);
    if (name_copy == NULL || room_copy == NULL) {
        free(name_copy);
        free(room_copy);
        return -1;
    }
    rooms->items[rooms->count].name = name_copy;
    rooms->items[rooms->count].room = room_copy;
    rooms->count++;
    return 0;
}

static int compare_by_name(const void *a, const void *b)
{
    return strcmp(((const struct sensor_room *)a)->name, ((const struct sensor_room *)b)->name);
}

void sensor_rooms_sort(struct sensor_rooms *rooms)
{
    if (rooms->count > 1)
        qsort(rooms->items, rooms->count, sizeof *rooms->items, compare_by_name);
}

const char *sensor_rooms_lookup(const struct sensor_rooms *rooms, const char *name)
{
    if (rooms == NULL || rooms->count == 0)
        return NULL;
    struct sensor_room key = {.name = (char *)name, .room = NULL};
    const struct sensor_room *found =
        bsearch(&key, rooms->items, rooms->count, sizeof *rooms->items, compare_by_name);
    return found ? found->room : NULL;
}

void sensor_rooms_free(struct sensor_rooms *rooms)
{
    for (size_t i = 0; i < rooms->count; i++) {
        free(rooms->items[i].name);
        free(rooms->items[i].room);
    }
    free(rooms->items);
    rooms->items = NULL;
    rooms->count = 0;
}
