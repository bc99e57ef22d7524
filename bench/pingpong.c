// The reference floor of ../shared/bench/pingpong.c (the workplace's shared benchmarks), kept here so that
// bench/floors.sh and the test suite work from a clone wherever it lives. Unchanged below this line.
// AF_UNIX SOCK_STREAM socketpair ping-pong between two processes with
// length-prefixed (4-byte BE) frames, ~200-byte payload.
// usage: pingpong <mode> <n> [inflight]
//   mode=lat     : 1 in flight, per-message RTT (median/p99/p999), msgs/s
//   mode=pipe    : <inflight> in flight, "naive" child: read hdr+body, write reply per msg
//   mode=pipebuf : <inflight> in flight, buffered both sides: read big chunk,
//                  parse all complete frames, one write() for all replies
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <unistd.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#define PAY 200
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
static void rd(int fd, void*b, size_t n){size_t o=0;while(o<n){ssize_t r=read(fd,(char*)b+o,n-o);if(r<=0){if(r==0)exit(0);perror("read");exit(1);}o+=r;}}
static void wr(int fd, const void*b, size_t n){size_t o=0;while(o<n){ssize_t r=write(fd,(const char*)b+o,n-o);if(r<=0){perror("write");exit(1);}o+=r;}}
static int cmpd(const void*a,const void*b){double x=*(double*)a,y=*(double*)b;return x<y?-1:x>y;}
static char frame[4+PAY];
static void child_naive(int fd){char buf[65536];uint32_t l;for(;;){rd(fd,&l,4);uint32_t n=ntohl(l);rd(fd,buf,n);
  // "process": reply with same-size frame
  wr(fd,&l,4);wr(fd,buf,n);}}
static void child_naive1(int fd){char buf[65536];uint32_t l;for(;;){rd(fd,&l,4);uint32_t n=ntohl(l);rd(fd,buf+4,n);memcpy(buf,&l,4);wr(fd,buf,4+n);}}
static void child_buf(int fd){static char in[1<<20],out[1<<20];size_t have=0;for(;;){ssize_t r=read(fd,in+have,sizeof(in)-have);if(r<=0)exit(0);have+=r;size_t p=0,o=0;
  while(have-p>=4){uint32_t n=ntohl(*(uint32_t*)(in+p));if(have-p<4+n)break;memcpy(out+o,in+p,4+n);o+=4+n;p+=4+n;}
  if(o)wr(fd,out,o);memmove(in,in+p,have-p);have-=p;}}
int main(int argc,char**argv){
  const char*mode=argc>1?argv[1]:"lat";long n=argc>2?atol(argv[2]):100000;int inflight=argc>3?atoi(argv[3]):64;
  uint32_t l=htonl(PAY);memcpy(frame,&l,4);memset(frame+4,'x',PAY);
  int sv[2];if(socketpair(AF_UNIX,SOCK_STREAM,0,sv)){perror("socketpair");return 1;}
  pid_t pid=fork();
  if(pid==0){close(sv[0]);if(!strcmp(mode,"pipebuf"))child_buf(sv[1]);else if(!strcmp(mode,"lat1")||!strcmp(mode,"pipe1"))child_naive1(sv[1]);else child_naive(sv[1]);_exit(0);}
  close(sv[1]);int fd=sv[0];char rb[4+PAY];
  // warmup
  for(int i=0;i<1000;i++){wr(fd,frame,sizeof frame);rd(fd,rb,sizeof rb);}
  if(!strcmp(mode,"lat")||!strcmp(mode,"lat1")){
    double*lat=malloc(sizeof(double)*n);double t0=now();
    for(long i=0;i<n;i++){double a=now();wr(fd,frame,sizeof frame);rd(fd,rb,4);rd(fd,rb+4,ntohl(*(uint32_t*)rb));lat[i]=(now()-a)*1e6;}
    double el=now()-t0;qsort(lat,n,sizeof(double),cmpd);
    printf("mode=%s n=%ld rtt_us median=%.2f p90=%.2f p99=%.2f p999=%.2f min=%.2f  msgs/s=%.0f\n",mode,n,lat[n/2],lat[n*9/10],lat[n*99/100],lat[n*999/1000],lat[0],n/el);
  } else if(!strcmp(mode,"pipe")||!strcmp(mode,"pipe1")){
    double t0=now();long sent=0,recv=0;
    for(;sent<inflight&&sent<n;sent++)wr(fd,frame,sizeof frame);
    while(recv<n){rd(fd,rb,4);rd(fd,rb+4,ntohl(*(uint32_t*)rb));recv++;if(sent<n){wr(fd,frame,sizeof frame);sent++;}}
    double el=now()-t0;printf("mode=%s n=%ld inflight=%d msgs/s=%.0f (%.2f us/msg)\n",mode,n,inflight,n/el,el*1e6/n);
  } else { // pipebuf: parent sends in batches, reads buffered
    static char in[1<<20],out[1<<20];double t0=now();long sent=0,recv=0;size_t have=0;
    {size_t o=0;for(;sent<inflight&&sent<n;sent++){memcpy(out+o,frame,sizeof frame);o+=sizeof frame;}wr(fd,out,o);}
    while(recv<n){ssize_t r=read(fd,in+have,sizeof(in)-have);if(r<=0){perror("read");return 1;}have+=r;size_t p=0,o=0;
      while(have-p>=4){uint32_t m=ntohl(*(uint32_t*)(in+p));if(have-p<4+m)break;p+=4+m;recv++;if(sent<n){memcpy(out+o,frame,sizeof frame);o+=sizeof frame;sent++;}}
      memmove(in,in+p,have-p);have-=p;if(o)wr(fd,out,o);}
    double el=now()-t0;printf("mode=%s n=%ld inflight=%d msgs/s=%.0f (%.3f us/msg)\n",mode,n,inflight,n/el,el*1e6/n);
  }
  close(fd);waitpid(pid,NULL,0);return 0;}
