package io.gpt2cls.tensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SafetensorsTest {

    @Test
    void halfToFloatCoversNormalSubnormalAndSpecialValues() {
        assertEquals(1f, Safetensors.halfToFloat((short) 0x3C00));
        assertEquals(-2f, Safetensors.halfToFloat((short) 0xC000));
        assertEquals(65504f, Safetensors.halfToFloat((short) 0x7BFF));
        assertEquals((float) Math.pow(2, -24), Safetensors.halfToFloat((short) 0x0001));
        assertEquals(Float.POSITIVE_INFINITY, Safetensors.halfToFloat((short) 0x7C00));
        assertTrue(Float.isNaN(Safetensors.halfToFloat((short) 0x7E00)));
    }
}
