package io.gpt2cls.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

import io.gpt2cls.runtime.NativeRuntime;

/** MKL's packed products against libtorch's plain matMul, on GPT-2 small's c_attn shape. */
class PackedWeightTest {

    @BeforeAll
    static void engine() {
        NativeRuntime.init();
        NativeRuntime.noGradOnThisThread();
    }

    /** Rows around the layout's own (256), one, odd counts, and a batch's (B, T, C) input. */
    @Test
    void packedProductsEqualThePlainProductUpToRounding() {
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray weight = manager.randomNormal(0, 0.02f, new Shape(768, 2304), DataType.FLOAT32);
            try (PackedWeight packed = PackedWeight.of(weight)) {
                for (Shape input : new Shape[] {new Shape(1, 768), new Shape(3, 768), new Shape(64, 768), new Shape(300, 768),
                        new Shape(2, 5, 768)}) {
                    NDArray x = manager.randomNormal(input);
                    NDArray product = packed.times(x);
                    assertEquals(input.slice(0, input.dimension() - 1).add(2304), product.getShape());
                    float[] expected = x.matMul(weight).toFloatArray();
                    float[] actual = product.toFloatArray();
                    for (int i = 0; i < expected.length; i++) {
                        assertEquals(expected[i], actual[i], 1e-5f + 1e-5f * Math.abs(expected[i]), input + ", element " + i);
                    }
                }
            }
        }
    }

    /** A transposed view is not contiguous: it is read through a contiguous copy, not as if its memory were row-major. */
    @Test
    void aNonContiguousInputIsReadByItsElements() {
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray weight = manager.randomNormal(new Shape(32, 48));
            NDArray xTransposed = manager.randomNormal(new Shape(32, 7)).transpose(); // (7, 32), strides of the (32, 7)
            try (PackedWeight packed = PackedWeight.of(weight)) {
                assertArrayEquals(xTransposed.matMul(weight).toFloatArray(), packed.times(xTransposed).toFloatArray(), 1e-4f);
            }
        }
    }

    @Test
    void refusesWhatItCannotMultiply() {
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray weight = manager.randomNormal(new Shape(16, 8));
            assertFalse(PackedWeight.canPack(weight.toType(DataType.FLOAT16, true)));
            assertThrows(IllegalArgumentException.class, () -> PackedWeight.of(weight.toType(DataType.FLOAT16, true)));
            try (PackedWeight packed = PackedWeight.of(weight)) {
                IllegalArgumentException wrongWidth = assertThrows(IllegalArgumentException.class,
                        () -> packed.times(manager.randomNormal(new Shape(2, 15))));
                assertTrue(wrongWidth.getMessage().contains("16 x 8"), wrongWidth.getMessage());
            }
        }
    }

    /**
     * The check a model runs before it drops its plain weights: it tells a packed weight that multiplies as the
     * plain one does from one that does not (here, another weight's layout: what a layout MKL cannot use at some
     * row count would give).
     */
    @Test
    void theCheckBeforePackingTellsAWrongLayoutFromARightOne() {
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray weight = manager.randomNormal(0, 0.1f, new Shape(64, 96), DataType.FLOAT32);
            NDArray other = manager.randomNormal(0, 0.1f, new Shape(64, 96), DataType.FLOAT32);
            try (PackedWeight right = PackedWeight.of(weight); PackedWeight wrong = PackedWeight.of(other)) {
                assertTrue(PackedWeight.multipliesAs(right, weight, 1, 17, 300));
                assertFalse(PackedWeight.multipliesAs(wrong, weight, 1));
                assertFalse(PackedWeight.multipliesAs(wrong, weight, 17));
                assertTrue(PackedWeight.agreesWithPlain(right, weight, true));
                assertTrue(PackedWeight.agreesWithPlain(right, weight, false));
            }
        }
    }

    /** Past close its memory is freed: a product then fails the call instead of reading freed memory. */
    @Test
    void aClosedPackedWeightRefusesToMultiply() {
        try (NDManager manager = NDManager.newBaseManager()) {
            PackedWeight packed = PackedWeight.of(manager.randomNormal(new Shape(16, 8)));
            packed.close();
            packed.close(); // twice is once
            assertThrows(IllegalStateException.class, () -> packed.times(manager.randomNormal(new Shape(2, 16))));
        }
    }

    /** A model whose weights cannot be packed (a float16 working copy) stays as it was and keeps working. */
    @Test
    void aFloat16ModelIsNotPacked() {
        Gpt2Config config = ModelPreset.byId("tiny").config(java.util.List.of("a", "b"));
        try (NDManager root = NDManager.newBaseManager();
             Gpt2ForSequenceClassification model = Gpt2ForSequenceClassification.randomInit(config, root, 1);
             Gpt2ForSequenceClassification half = model.castTo(DataType.FLOAT16, root)) {
            assertFalse(half.packForServing());
            assertFalse(half.packedForServing());
            assertEquals(model.namedParameters().size(), half.namedParameters().size());
        }
    }
}
