#ifndef SENSORHUB_SENSOR_ROOMS_H
#define SENSORHUB_SENSOR_ROOMS_H

#include <stddef.h>

/* The config's `sensors` map: sensor name -> room, for sensors that send no
 * location. Kept sorted by name for binary search. */
struct sensor_room {
    char *name;
    char *room;
};

struct sensor_rooms {
    struct sensor_room *items;
    size_t count;
};

/* Adds (copies) one pair; returns 0, or -1 when out of memory. Call
 * sensor_rooms_sort() after the last add. */
int sensor_rooms_add(struct sensor_rooms *rooms, const char *name, const char *room);
void sensor_rooms_sort(struct sensor_rooms *rooms);

/* The room of a sensor, or NULL when the map does not name it. */
const char *sensor_rooms_lookup(const struct sensor_rooms *rooms, const char *name);

void sensor_rooms_free(struct sensor_rooms *rooms);

#endif
