/**
 * Tests of the project's shell scripts that do more than start something: what they compute is checked on inputs
 * made for the purpose.
 */
package io.nfscsi.scripts;
