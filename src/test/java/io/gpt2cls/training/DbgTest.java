package io.gpt2cls.training;
import org.junit.jupiter.api.Test;
import ai.djl.ndarray.*;
import ai.djl.engine.Engine;
import ai.djl.training.GradientCollector;
import io.gpt2cls.model.*;
import java.util.*;
class DbgTest {
  @Test void dbg() throws Exception {
    NativeRuntime.ensureOffline();
    Gpt2Config cfg = ModelPreset.TINY.config(List.of("a","b"));
    try (NDManager root = NDManager.newBaseManager(); Gpt2ForSequenceClassification model = Gpt2ForSequenceClassification.randomInit(cfg, root, 7)) {
      Random r = new Random(1); List<int[]> rows = new ArrayList<>();
      for (int i=0;i<16;i++){ int[] t=new int[256]; for(int j=0;j<256;j++) t[j]=r.nextInt(50000); rows.add(t);} 
      TokenBatch b = TokenBatch.rightPadded(rows, 50256); int[] labels = new int[16];
      model.namedParameters().values().forEach(p->p.setRequiresGradient(true));
      TrainingArguments a = new TrainingArguments();
      try (AdamW opt = new AdamW(model.namedParameters(), model.manager(), a)) {
      for (int it=0; it<4; it++) {
        long t0=System.nanoTime();
        try (NDManager s = model.manager().newSubManager()) { model.forward(b, s, false).logits().toFloatArray(); }
        long t1=System.nanoTime();
        try (NDManager s = model.manager().newSubManager(); GradientCollector gc = Engine.getInstance().newGradientCollector()) {
          NDArray loss = Gpt2ForSequenceClassification.crossEntropy(model.forward(b, s, true).logits(), labels);
          long t2=System.nanoTime();
          gc.backward(loss); loss.getFloat();
          long t3=System.nanoTime();
          System.out.printf("DBG fwd-nograd %d ms, fwd-train %d ms, backward %d ms%n", (t1-t0)/1000000, (t2-t1)/1000000, (t3-t2)/1000000);
        }
        long t4=System.nanoTime();
        try (NDManager s = model.manager().newSubManager()) { double n = opt.gradientNorm(s); long t5=System.nanoTime(); opt.step(1e-4, 1.0, s); long t6=System.nanoTime();
          System.out.printf("DBG norm %d ms, adam %d ms%n", (t5-t4)/1000000, (t6-t5)/1000000);}
      }}
    }
  }
}
