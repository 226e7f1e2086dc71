package io.gpt2cls.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

import com.sun.jna.NativeLibrary;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.LibUtils;

/**
 * MKL inside libtorch chooses its kernels by the CPU's features once {@link NativeRuntime#init()} has
 * loaded the project's library: MKL's own code-path detection ({@code mkl_serv_cpu_detect}, which
 * libtorch exports) names a CPU-specific path, where on an AMD CPU without the library it answers 0
 * (generic code; measured on this project's AMD EPYC CI machine: 0 without, 5 with).
 */
@EnabledOnOs(value = OS.LINUX, architectures = "amd64")
class MklByFeaturesTest {

    @Test
    void theShippedLibraryAnswersMklsVendorCheckWithYes() {
        // RTLD_LAZY alone, local: this test puts nothing in the global scope that the other one checks
        NativeLibrary library = NativeLibrary.getInstance(NativeRuntime.MKL_BY_FEATURES_LIBRARY,
                java.util.Map.of(com.sun.jna.Library.OPTION_OPEN_FLAGS, 0x1));
        assertEquals(1, library.getFunction("mkl_serv_intel_cpu_true").invokeInt(new Object[0]));
    }

    @Test
    void mklInsideLibtorchDispatchesToACpuSpecificCodePath() {
        NativeRuntime.init();
        Engine.getInstance();
        Path libtorch = Path.of(LibUtils.getLibtorchPath()).resolve("libtorch_cpu.so");
        assertTrue(Files.exists(libtorch), libtorch + " (DJL's libtorch directory)");
        int codePath = NativeLibrary.getInstance(libtorch.toString()).getFunction("mkl_serv_cpu_detect").invokeInt(new Object[0]);
        assertTrue(codePath > 0, "MKL's code path " + codePath + ": 0 is its generic one (an AMD CPU it did not take for Intel)");
    }
}
