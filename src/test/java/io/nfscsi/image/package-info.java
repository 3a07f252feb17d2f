/**
 * The container image's contents outside a container: the jlinked runtime that {@code ./mvnw -Pruntime package}
 * writes to {@code target/runtime} serves the driver, and {@link io.nfscsi.image.AotTraining} records the AOT cache
 * that the image starts with.
 */
package io.nfscsi.image;
